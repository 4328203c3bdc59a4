"""Rewards and preferential policies (奖励优惠, seeds-spec P17): eligibility from the registry, applications decided
through a three-signature chain, payments to the entitled parents only, the register and its yearly totals."""
