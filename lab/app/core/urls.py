from django.urls import path

from . import views

urlpatterns = [
    path("health/", views.health, name="health"),
    path("auth/login/", views.login_view, name="login"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/transactions/", views.account_transactions, name="account-transactions"),
]
