import { createRequire } from 'node:module';
import type * as BlobSdk from '@azure/storage-blob';

let loaded: typeof BlobSdk | undefined;

/**
 * `@azure/storage-blob`, loaded when a sink makes its client rather than
 * when the plugin loads: `validate` and `plugins --schema` never pay for it.
 * With require(), like plugin-s3's SDK: the package ships CommonJS, which
 * Node loads faster this way than through import() of an ES module.
 */
export function blobSdk(): typeof BlobSdk {
  loaded ??= createRequire(import.meta.url)('@azure/storage-blob') as typeof BlobSdk;
  return loaded;
}

/** What a BlobServiceClient takes as its credential (its constructor's second parameter, less the pipeline overload). */
export type BlobCredential = Exclude<ConstructorParameters<typeof BlobSdk.BlobServiceClient>[1], BlobSdk.PipelineLike>;

/** The one thing the default credential needs from `@azure/identity`. */
interface IdentityModule {
  DefaultAzureCredential: new () => BlobCredential;
}

/**
 * `@azure/identity`'s DefaultAzureCredential (environment, workload
 * identity, managed identity, Azure CLI...). Not a dependency of this
 * plugin: it brings MSAL for Node and the browser (~19 MB installed), and
 * its current releases need Node 22. Whoever uses it installs it beside
 * backupctl; it is loaded only when no key, SAS or connection string is set.
 */
export function defaultAzureCredential(): BlobCredential {
  let identity: IdentityModule;
  try {
    identity = createRequire(import.meta.url)('@azure/identity') as IdentityModule;
  } catch (error) {
    throw Object.assign(new Error('@azure/identity is not installed'), { name: 'IdentityNotInstalled', cause: error });
  }
  return new identity.DefaultAzureCredential();
}
