"""Person registry (人员登记): validation and normalisation of who a person is."""
