-- wrk script: POST /v3/auth/tokens with the "token" method, i.e. exchange an existing token
-- for a new project-scoped one. benches/identity.sh sets both variables.
local token = os.getenv("MONOSTACK_BENCH_TOKEN")
local project = os.getenv("MONOSTACK_BENCH_PROJECT_ID")
if token == nil or project == nil then
  error("set MONOSTACK_BENCH_TOKEN and MONOSTACK_BENCH_PROJECT_ID")
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format(
  '{"auth":{"identity":{"methods":["token"],"token":{"id":"%s"}},' ..
  '"scope":{"project":{"id":"%s"}}}}',
  token, project)
