// Runs user searches with FusionAuth's official TypeScript client
// (@fusionauth/typescript-client), for TestOfficialTypeScriptClientSearch.
//
// Usage: node tsclient-search.cjs <directory of the installed package>
// Reads {"url", "apiKey", "tenantId", "searches": [SearchRequest, ...]} from stdin and
// writes one JSON array to stdout: for each search, {"statusCode", "response"} when the
// client resolved, or {"statusCode", "exception"} when it rejected.
'use strict';

const {FusionAuthClient} = require(process.argv[2]);

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const client = new FusionAuthClient(input.apiKey, input.url, input.tenantId);
  const out = [];
  for (const request of input.searches) {
    try {
      const r = await client.searchUsersByQuery(request);
      out.push({statusCode: r.statusCode, response: r.response});
    } catch (e) {
      out.push({statusCode: e.statusCode, exception: e.exception ? (e.exception.message || e.exception) : null});
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
