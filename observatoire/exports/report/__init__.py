"""Reports built from the product's own query functions (the diagnostic local de sécurité)."""
