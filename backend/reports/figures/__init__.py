"""The statistical report's figures (统计报表): its columns (`columns.py`) and the counts behind them per unit
(`repository.py`)."""
