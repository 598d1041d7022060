"""Central's staff pages: signing in, accounts and enrolment codes (admins), and devices.

Every query and commit for these lives in ``app.central.accounts``; the views are thin.
"""
