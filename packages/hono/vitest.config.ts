import { sessionbridgeProject } from '../../vitest.project.ts'

export default sessionbridgeProject('hono')
