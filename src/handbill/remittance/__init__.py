"""What comes back: 835 remittances posted to the ledger, and 999/277CA acknowledgements."""
