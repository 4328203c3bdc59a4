"""Clean-up campaigns (清理清查, spec P12): planning a campaign and generating each village's work list from the
registry, recording each visit's finding through the registry's own services (departure and its notice, a move
within the county, a new registration and its notice), progress per village, and the campaign report."""
