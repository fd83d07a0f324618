from django.db import models
from django.utils import timezone


class Account(models.Model):
    number = models.CharField(max_length=34, unique=True)
    owner_name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="EUR")
    balance = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.number} ({self.owner_name})"


class Transaction(models.Model):
    CREDIT = "credit"
    DEBIT = "debit"
    KIND_CHOICES = [(CREDIT, "Credit"), (DEBIT, "Debit")]

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=6, choices=KIND_CHOICES)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    description = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=12, default="posted")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "created_at"], name="core_tx_account_created_idx")]

    def __str__(self):
        return f"{self.kind} {self.amount} on {self.account_id}"
