// A stand-in for an ssr deployment's Node server (tests/edge/test_ssr.py): prints its
// port, counts requests, and answers what the tests ask about.
//   /__count          how many requests it had (this one not counted)
//   /echo             JSON: method, url, headers, body length and sha256 (read streaming)
//   /big?n=BYTES      a chunked body of n bytes ('x'), written in 64 KiB pieces
//   /slow             never answers
//   /hop              answers with hop-by-hop headers that must not reach the visitor
//   anything else     text: the server's name (argv[2])
const http = require("http");
const crypto = require("crypto");

const name = process.argv[2] || "server";
let count = 0;

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/__count") {
    res.end(String(count));
    return;
  }
  count += 1;
  if (url.pathname === "/echo") {
    const hash = crypto.createHash("sha256");
    let length = 0;
    req.on("data", (chunk) => {
      length += chunk.length;
      hash.update(chunk);
    });
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          name,
          method: req.method,
          url: req.url,
          headers: req.headers,
          length,
          sha256: hash.digest("hex"),
        }),
      );
    });
    return;
  }
  if (url.pathname === "/big") {
    let left = Number(url.searchParams.get("n"));
    const piece = Buffer.alloc(65536, "x");
    res.setHeader("content-type", "application/octet-stream");
    const write = () => {
      while (left > 0) {
        const part = left >= piece.length ? piece : piece.subarray(0, left);
        left -= part.length;
        if (!res.write(part)) {
          res.once("drain", write);
          return;
        }
      }
      res.end();
    };
    write();
    return;
  }
  if (url.pathname === "/slow") {
    return; // never answers
  }
  if (url.pathname === "/hop") {
    res.writeHead(200, {
      "content-type": "text/plain",
      connection: "x-hop-named",
      "x-hop-named": "dropped",
      "keep-alive": "timeout=5",
      "proxy-thing": "dropped",
      "x-kept": "kept",
    });
    res.end("hop");
    return;
  }
  res.setHeader("content-type", "text/plain");
  res.end(name);
});

server.listen(0, "127.0.0.1", () => {
  console.log(server.address().port);
});
