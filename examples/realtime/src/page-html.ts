/** Escapes text for HTML element content and double-quoted attributes. */
const escapeHtml = (value: unknown) => String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** What the realtime page shows. */
export interface RealtimePageView {
  username: string | null
  /** The websocket server, e.g. `ws://127.0.0.1:3011`. */
  wsUrl: string
  loginFailed: boolean
}

// Runs in the browser: ask the web app for a one-time ticket, then open the websocket with it.
// The server's greeting and echoes are shown with textContent (never parsed as HTML).
const CLIENT = `
const log = document.getElementById('log')
const show = (text) => { const li = document.createElement('li'); li.textContent = text; log.append(li) }
async function connect() {
  const answer = await fetch('/ticket', { method: 'POST' }).then((r) => r.json())
  if (answer.status !== 'ok') { show('no ticket: ' + answer.message); return }
  const socket = new WebSocket(document.body.dataset.ws + '/?ticket=' + encodeURIComponent(answer.message))
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data)
    if (message.type === 'hello') {
      document.getElementById('greeting').textContent = 'Hello, ' + message.username + '!'
      show('connected as ' + message.username + ' (user ' + message.userId + ')')
    } else show(message.username + ' said: ' + message.text)
  }
  socket.onclose = () => show('disconnected')
  document.getElementById('say').onsubmit = (event) => {
    event.preventDefault()
    const input = document.getElementById('text')
    if (socket.readyState === WebSocket.OPEN && input.value) socket.send(input.value)
    input.value = ''
  }
}
if (document.body.dataset.user) connect()
`

/** The realtime page: a login form, or (logged in) a greeting that arrives over the websocket. */
export function renderRealtimePage(view: RealtimePageView): string {
  const body = view.username
    ? `<p>Logged in as <strong id="username">${escapeHtml(view.username)}</strong>.
<form method="post" action="/logout" style="display:inline"><button type="submit">Log out</button></form></p>
<h2 id="greeting">Connecting…</h2>
<form id="say"><input id="text" placeholder="Say something" autocomplete="off"> <button type="submit">Send</button></form>
<ul id="log"></ul>`
    : `<p class="user">Not logged in.</p>${view.loginFailed ? '<p class="error">Wrong username or password.</p>' : ''}
<form method="post" action="/login"><label>Username <input name="username"></label>
<label>Password <input name="password" type="password"></label> <button type="submit">Log in</button></form>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Realtime · sessionbridge</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.3rem 0}.error{color:#b00}</style></head>
<body data-ws="${escapeHtml(view.wsUrl)}" data-user="${view.username ? '1' : ''}">
<h1>Realtime tickets</h1>
${body}
<script>${CLIENT}</script>
</body></html>`
}
