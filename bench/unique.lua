-- wrk script: one write request, made unique per call. $BENCH_METHOD, $BENCH_PATH and
-- $BENCH_BODY give it; in the path and body "{N}" becomes "<run>x<thread>x<counter>" (valid in
-- names), "{A}" the number run * 1000 + thread and "{B}" the counter (version nodes).
-- $BENCH_RUN (a number) differs between wrk runs, so no two runs repeat a name.
-- Headers: $BENCH_HEADERS, "Name: value" pairs separated by "|".
local counter = 0
local threads = 0
local id = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local method, path, body, headers, run

function init(args)
  method = os.getenv("BENCH_METHOD")
  path = os.getenv("BENCH_PATH")
  body = os.getenv("BENCH_BODY")
  run = tonumber(os.getenv("BENCH_RUN") or "0")
  headers = {}
  for pair in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
    local k, v = string.match(pair, "^([^:]+):%s*(.*)$")
    headers[k] = v
  end
end

function request()
  counter = counter + 1
  local n = tostring(run) .. "x" .. tostring(id) .. "x" .. tostring(counter)
  local function fill(s)
    s = string.gsub(s, "{N}", n)
    s = string.gsub(s, "{A}", tostring(run * 1000 + id))
    s = string.gsub(s, "{B}", tostring(counter))
    return s
  end
  return wrk.format(method, fill(path), headers, fill(body))
end
