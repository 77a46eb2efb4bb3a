"""The small scenario text the simulation tests edit one key at a time."""

BASE = """\
name = "small"
seed = 11

[book]
traders = 3
long_share = 0.5
insurance_fund_ppm = 10000

[book.size]
distribution = "lognormal"
median = 1000000
sigma = 0.5

[book.leverage]
distribution = "uniform"
low = 2
high = 10

[path]
steps = 6
cadence = 2
step_minutes = 60

[prices]
model = "gbm"
start = 10000
volatility = 0.8
"""
