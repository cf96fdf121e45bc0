// Every suite that talks to a real Django, against Django 4.2 (one file per version, so the
// versions run in parallel workers). The matrix: @sessionbridge/test-services/django-versions.
import { djangoVersion } from '@sessionbridge/test-services/django-versions'
import { codecSuite } from './suites/codec.ts'
import { hashersSuite } from './suites/hashers.ts'
import { interopSuite } from './suites/interop.ts'
import { versionsSuite } from './suites/versions.ts'

const django = await djangoVersion('4.2')
codecSuite(django)
hashersSuite(django)
versionsSuite(django)
await interopSuite(django)
