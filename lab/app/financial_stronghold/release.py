# Release constants. The image build overwrites this file with the values of the
# release being built (APP_VERSION, CACHE_DIR); these are the development defaults.
APP_VERSION = "0.0.0-dev"
CACHE_DIR = "/var/tmp/financial_stronghold_cache"
