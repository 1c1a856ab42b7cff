"""The reported campaign the lab's copying story starts from (Anthropic, 23 Feb 2026, as reported).

Every page that quotes these names the source; the accounts arithmetic lives in
models/experiments/queries.py.
"""
REPORTED_EXCHANGES = 16_000_000
REPORTED_ACCOUNTS = 24_000
REPORTED_PER_ACCOUNT = int(round(REPORTED_EXCHANGES / REPORTED_ACCOUNTS, -1))  # 666.7, quoted as ≈ 670
