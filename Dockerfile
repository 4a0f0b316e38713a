# The reference shop app, as ECS Express Mode or App Runner runs it (infra/stacks/service.ts builds
# this file as an image asset; the build context is the repository root, filtered by .dockerignore).
# x86_64: App Runner runs nothing else, and an ECS Express service has no platform setting.
# Node 22 (maintenance LTS): Node 20 reached its end of life on 2026-04-30.
FROM public.ecr.aws/docker/library/node:22-slim

WORKDIR /srv
ENV NODE_ENV=production \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

COPY package.json package-lock.json ./
# No install scripts: the app needs none (esbuild, under tsx, finds its binary through its
# optional platform package), and the allow-list in package.json is an npm 11 feature this npm
# may not have. The deploy-time and local-only packages are dropped: app/ never loads them
# (checked with an esbuild metafile of app/main.ts) and they are most of the image.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/aws-cdk-lib node_modules/cdk-nag node_modules/constructs \
           node_modules/amplify-dynamodb-simulator node_modules/@artilleryio \
 && npm cache clean --force

COPY tsconfig.json ./
# app/ imports the toolkit only as `dynamo-loadtest/instrument`: package.json (above) is this
# package's own, so its "exports" resolve that self-reference to instrument/.
COPY instrument ./instrument
COPY app ./app

USER node
EXPOSE 8080
CMD ["node", "--import", "tsx", "app/main.ts"]
