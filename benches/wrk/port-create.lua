-- wrk script: POST /v2.0/ports on one network, each request a port of its own (the network
-- service allocates its MAC and the next free address). benches/network.sh sets the variables.
local token = os.getenv("MONOSTACK_BENCH_TOKEN")
local network = os.getenv("MONOSTACK_BENCH_NETWORK_ID")
if token == nil or network == nil then
  error("set MONOSTACK_BENCH_TOKEN and MONOSTACK_BENCH_NETWORK_ID")
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Auth-Token"] = token
wrk.body = string.format('{"port":{"network_id":"%s","name":"bench-wrk","device_id":"bench-wrk"}}', network)
