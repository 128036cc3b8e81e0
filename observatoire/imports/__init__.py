"""Import batches (one transaction per import), their list and undo, and retention."""
