// Image references as learners write them, reduced to what labs compare.

/** `docker.io/library/x:1@sha256:…` → `x`; `team/app:1.0` → `team/app`; a registry with a port keeps it. */
export function imageRepository(image: string): string {
  let name = image.trim();
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) name = name.slice(0, colon);
  return name.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}
