import { sessionbridgeProject } from '../../vitest.project.ts'

export default sessionbridgeProject('rest-sessions-server')
