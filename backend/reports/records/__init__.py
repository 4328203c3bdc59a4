"""What supervision stores: targets, published reports and assessments, the platform's county counts."""
