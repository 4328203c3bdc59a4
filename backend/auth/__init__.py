"""Authentication: who is calling, with the transaction scoped to their county. Permission decisions are not
made here but in backend/authz/ (which imports nothing of this package: `backend/main.py` hands it
`authenticate` as the app's authenticator).

- `cookie.py`: a browser's session cookie and the CSRF token its writes must echo.
- `bearer.py`: bearer tokens, the platform operator's and a department client's (OAuth2 access token).
- `authenticate.py`: the one entry point every route goes through (via `Require(action)`).
- `client_transaction.py`: a department client authenticated on a plain driver connection, for the lean
  intake submit path (docs/adr/0009-lean-intake-submit-path.md): the same token checks, the same answers.
"""
