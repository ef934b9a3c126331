"""Claims leaving the practice: 837P batches, the clearinghouse connection and its inbox."""
