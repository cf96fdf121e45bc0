// Child process: starts one variant and prints `READY <port>`; exits when stdin closes.
import { requireBuiltPackages } from '../built-packages.ts'
import { VARIANTS } from './variants.ts'

requireBuiltPackages('http/server')
const name = process.argv[2]
const variant = VARIANTS.find((v) => v.name === name)
if (!variant) {
  console.error(`unknown variant ${name}; known: ${VARIANTS.map((v) => v.name).join(', ')}`)
  process.exit(2)
}
const server = await variant.start()
process.stdout.write(`READY ${server.port}\n`)
process.stdin.resume()
process.stdin.on('end', async () => {
  await server.close()
  process.exit(0)
})
