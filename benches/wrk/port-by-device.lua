-- wrk script: GET /v2.0/ports?device_id=<prefix><n> for a random n below the count, i.e. what
-- Nova asks for each server it builds, deletes or shows interfaces of. benches/network.sh sets
-- the variables; every device id in the range has exactly one port.
local token = os.getenv("MONOSTACK_BENCH_TOKEN")
local prefix = os.getenv("MONOSTACK_BENCH_DEVICE_PREFIX")
local count = tonumber(os.getenv("MONOSTACK_BENCH_DEVICE_COUNT") or "")
if token == nil or prefix == nil or count == nil then
  error("set MONOSTACK_BENCH_TOKEN, MONOSTACK_BENCH_DEVICE_PREFIX and MONOSTACK_BENCH_DEVICE_COUNT")
end

wrk.headers["X-Auth-Token"] = token

-- init runs in each thread's own Lua state: a seed of its own per thread.
function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

request = function()
  local path = string.format("/v2.0/ports?device_id=%s%d", prefix, math.random(0, count - 1))
  return wrk.format("GET", path)
end
