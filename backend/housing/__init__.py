"""Rental housing and employers (以房管人, spec P24): the register of houses (address, door-plate number, owner,
business type) and employers, tenants and employees linked to registered persons with move-in and move-out dates
(人来登记、人走注销), the landlord's responsibility agreement linked from the agreements, a house's tenants and
history, and the 《房屋出租户登记表》 and 《暂住人口情况登记簿》 registers."""
