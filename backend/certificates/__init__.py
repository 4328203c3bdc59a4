"""Marriage-and-childbearing certificates (《流动人口婚育证明》, 婚育证明): issue, record on arrival, inspect, renew,
revoke, and the registers built from them."""
