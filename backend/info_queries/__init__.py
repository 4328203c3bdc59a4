"""The population-information query ledger (人口信息查询, seeds-spec P19)."""
