"""GraphiQL at GET /graphql, served with its browser files from the gateway's own origin
(vendored by scripts/vendor-graphiql), so it works without internet access and under a
Content-Security-Policy that names no other host."""
