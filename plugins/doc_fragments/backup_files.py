# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Where the backups are and how they are named: the same three options in pg_backup,
    # backup_verify and pg_restore (the argument spec is _options.BACKUP_FILES_SPEC).
    DOCUMENTATION = r"""
options:
  directory:
    description:
      - Directory of the backups. It must exist; the modules never create it, so that a typo
        does not scatter backups or verify an empty place.
    type: path
    required: true
  pattern:
    description:
      - File name of a backup, with C(%Y %m %d %H %M %S) for the time the dump started (in
        O(timezone)); everything else is literal text. At least C(%Y), C(%m) and C(%d).
      - Defaults to C(backup_%Y%m%d_%H%M%S.sql.gz) (the runbook's name) for plain dumps and
        C(backup_%Y%m%d_%H%M%S.dump) for custom-format dumps (O(format)).
      - Only files matching this pattern are backups; any other file is never read nor deleted.
    type: str
  timezone:
    description:
      - Time zone of the time in the file name. V(UTC), V(local) (the host's zone) or an IANA
        name such as V(Europe/Paris) (needs Python 3.9 on the target).
    type: str
    default: UTC
"""
