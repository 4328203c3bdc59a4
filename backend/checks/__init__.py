"""Pregnancy and IUD check rounds (孕情环情检查, 「三查」, spec P08): the rounds the nightly sweep opens, their
structured results, the missed-round settlement and its escalation, 三查到位率 per unit and the
《计划生育三查登记册》 register."""
