"""The national registers (台账): live, read-only views over persons, certificates and cases, with export.

- 流入人口信息登记簿 inflow register (`inflow`) and 流出人口信息登记簿 outflow register (`outflow`): one row per
  registered person with that flow direction;
- 婚育证明登记表 certificate register (`certificates`): one row per marriage-and-childbearing certificate;
- 流入已婚育龄妇女孕情、环情检查登记簿 check register (`checks`): one row per pregnancy/IUD check case;
- 一孩生育服务登记表 first-child registration register (`first-child`): one row per first-child registration case.

Nothing is stored: a register is a query plus a declarative list of columns (`definitions.py`); the page view
and the CSV and XLSX files all render the same columns (`rendering.py`).
"""
