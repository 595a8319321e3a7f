// A webhook receiver as an app would run it: it verifies every request with
// the npm package standardwebhooks (not imgate's code) and prints one JSON
// line per request. The first FAIL_FIRST attempts of each webhook-id are
// answered 500, to make imgate retry.
//
//   IMGATE_NPM_BROWSER=… WEBHOOK_SECRET=whsec_… FAIL_FIRST=2 node webhook-receiver.mjs PORT
import { createRequire } from 'node:module'
import http from 'node:http'
import path from 'node:path'

const require = createRequire(path.join(process.env.IMGATE_NPM_BROWSER, 'node_modules', 'noop.js'))
const { Webhook } = require('standardwebhooks')

const wh = new Webhook(process.env.WEBHOOK_SECRET)
const failFirst = Number(process.env.FAIL_FIRST || 0)
const attempts = new Map()

http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8')
    const id = req.headers['webhook-id']
    const n = (attempts.get(id) || 0) + 1
    attempts.set(id, n)
    let event = null
    let error = ''
    try {
      event = wh.verify(body, req.headers)
    } catch (e) {
      error = String(e.message || e)
    }
    const status = error ? 400 : (n <= failFirst ? 500 : 200)
    console.log(JSON.stringify({ id, attempt: n, status, verified: !error, error, event, at: Date.now() }))
    res.writeHead(status, { 'content-type': 'text/plain' })
    res.end(status === 200 ? 'ok' : 'not now')
  })
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log(JSON.stringify({ listening: true })))
