"""Space and time together: emerging hot spots, near-repeat (Knox), the data clock and alerts on real changes."""
