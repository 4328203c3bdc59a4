"""Contraceptive distribution (避孕药具发放, spec P10): distribution points, their stock (received, issued,
balance), each issue with its recipient's signature, the 《避孕药具发放登记册》 register and the reconciliation of
issued quantities with the persons using each method."""
