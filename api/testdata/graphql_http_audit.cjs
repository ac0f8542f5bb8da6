// Runs the graphql-http server audits (GraphQL over HTTP conformance)
// against the URL given as the first argument and prints one JSON line per
// audit: {"id", "name", "status", "reason"}. The Go test that starts the
// server (graphql_http_audit_test.go) judges them. graphql-http is found
// through NODE_PATH (installed by .ci/run under .ci/node).
const { auditServer } = require('graphql-http');

(async () => {
  const results = await auditServer({ url: process.argv[2] });
  for (const r of results) {
    let reason = r.reason;
    if (r.status !== 'ok' && r.response) {
      let body = '';
      try {
        body = (await r.response.text()).slice(0, 300);
      } catch {
        // the audit has read the body already
      }
      reason += ` (answered ${r.response.status} ${body})`;
    }
    console.log(JSON.stringify({ id: r.id, name: r.name, status: r.status, reason }));
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
