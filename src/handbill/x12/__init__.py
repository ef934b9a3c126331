"""X12 5010: tokenizer, writer and the transaction sets Handbill reads and writes (pure)."""
