"""Users, groups and authentication: sign-up (with the user's home folders), token/Basic/session login,
and group management for administrators."""
