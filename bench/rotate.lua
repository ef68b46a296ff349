-- wrk script: rotate through request paths (one per line in $BENCH_PATHS),
-- starting at a random offset, with the headers boto3 sends (a SigV4
-- Authorization header whose Credential scope kiln parses; kiln does not check
-- signatures). Requests are formatted once, up front.
local requests = {}
local n, i = 0, 0

function init(args)
  local headers = {
    ["Authorization"] = os.getenv("BENCH_AUTH"),
    ["X-Amz-Date"] = "20250101T000000Z",
    ["User-Agent"] = "Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux lang/python#3.11.7 cfg/retry-mode#legacy",
    ["Accept-Encoding"] = "identity",
  }
  local f = assert(io.open(os.getenv("BENCH_PATHS")))
  for line in f:lines() do
    if #line > 0 then
      n = n + 1
      requests[n] = wrk.format("GET", line, headers)
    end
  end
  f:close()
  math.randomseed(os.time())
  i = math.random(n) - 1
end

function request()
  i = i % n + 1
  return requests[i]
end
