"""Intra-county entrustment (县内委托 / 移交, seeds-spec P21): a township hands a case, and optionally the
responsibility for its person, to another township of the same county; the receiver accepts or returns it."""
