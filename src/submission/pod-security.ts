// Pod Security Standard "baseline" (kubernetes.io/docs/concepts/security/pod-security-standards),
// applied to a pod spec before anything reaches the cluster.
import { getPath, isRecord, type FieldPath } from './manifest.js';

export interface PodSecurityViolation {
  /** Field path from the object root, for `locate`. */
  path: Array<string | number>;
  message: string;
}

export const BASELINE_CAPABILITIES: readonly string[] = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
];

export const SAFE_SYSCTLS: readonly string[] = [
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];

const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/**
 * `template` is the pod template (`metadata` + `spec`) found at `base` in the object,
 * e.g. `['spec', 'template']` for a Deployment.
 */
export function baselineViolations(template: unknown, base: Array<string | number>): PodSecurityViolation[] {
  const out: PodSecurityViolation[] = [];
  if (!isRecord(template)) return out;
  const spec = template.spec;
  if (!isRecord(spec)) return out;
  const specPath = [...base, 'spec'];
  const add = (rel: FieldPath, message: string): void => {
    out.push({ path: [...specPath, ...(typeof rel === 'string' ? rel.split('.') : rel)], message });
  };

  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) add(field, `${field}: true shares the node's namespaces with the Pod`);
  }
  if (getPath(spec, 'securityContext.windowsOptions.hostProcess') === true) {
    add('securityContext.windowsOptions.hostProcess', 'Windows hostProcess Pods run with node privileges');
  }
  checkSeccomp(getPath(spec, 'securityContext.seccompProfile.type'), ['securityContext', 'seccompProfile', 'type'], add);
  checkAppArmor(getPath(spec, 'securityContext.appArmorProfile.type'), ['securityContext', 'appArmorProfile', 'type'], add);
  checkSeLinux(getPath(spec, 'securityContext.seLinuxOptions'), ['securityContext', 'seLinuxOptions'], add);

  const sysctls = getPath(spec, 'securityContext.sysctls');
  if (Array.isArray(sysctls)) {
    sysctls.forEach((s, i) => {
      const name = isRecord(s) ? s.name : undefined;
      if (typeof name === 'string' && !SAFE_SYSCTLS.includes(name)) {
        add(['securityContext', 'sysctls', i, 'name'], `sysctl ${name} is not in the safe set`);
      }
    });
  }

  const volumes = spec.volumes;
  if (Array.isArray(volumes)) {
    volumes.forEach((v, i) => {
      if (isRecord(v) && v.hostPath !== undefined) {
        const name = typeof v.name === 'string' ? ` "${v.name}"` : '';
        add(['volumes', i, 'hostPath'], `hostPath volume${name} mounts the node's filesystem`);
      }
    });
  }

  const annotations = getPath(template, 'metadata.annotations');
  if (isRecord(annotations)) {
    for (const [key, value] of Object.entries(annotations)) {
      if (!key.startsWith('container.apparmor.security.beta.kubernetes.io/')) continue;
      if (typeof value === 'string' && (value === 'runtime/default' || value.startsWith('localhost/'))) continue;
      out.push({
        path: [...base, 'metadata', 'annotations', key],
        message: `AppArmor annotation ${key}: ${String(value)} turns off the default AppArmor profile`,
      });
    }
  }

  for (const list of CONTAINER_LISTS) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((c, i) => {
      if (!isRecord(c)) return;
      const who = typeof c.name === 'string' ? ` (container "${c.name}")` : '';
      const addC = (rel: FieldPath, message: string): void => {
        const relSegs = typeof rel === 'string' ? rel.split('.') : rel;
        add([list, i, ...relSegs], `${message}${who}`);
      };
      const sc = c.securityContext;
      if (isRecord(sc)) {
        if (sc.privileged === true) addC('securityContext.privileged', 'privileged: true gives the container full access to the node');
        if (getPath(sc, 'windowsOptions.hostProcess') === true) {
          addC('securityContext.windowsOptions.hostProcess', 'Windows hostProcess containers run with node privileges');
        }
        if (sc.procMount !== undefined && sc.procMount !== 'Default') {
          addC('securityContext.procMount', `procMount: ${String(sc.procMount)} unmasks /proc`);
        }
        const added = getPath(sc, 'capabilities.add');
        if (Array.isArray(added)) {
          added.forEach((cap, j) => {
            const name = String(cap).toUpperCase().replace(/^CAP_/, '');
            if (!BASELINE_CAPABILITIES.includes(name)) {
              addC(['securityContext', 'capabilities', 'add', j], `capability ${String(cap)} is not in the baseline set`);
            }
          });
        }
        checkSeccomp(getPath(sc, 'seccompProfile.type'), ['securityContext', 'seccompProfile', 'type'], addC);
        checkAppArmor(getPath(sc, 'appArmorProfile.type'), ['securityContext', 'appArmorProfile', 'type'], addC);
        checkSeLinux(sc.seLinuxOptions, ['securityContext', 'seLinuxOptions'], addC);
      }
      const ports = c.ports;
      if (Array.isArray(ports)) {
        ports.forEach((p, j) => {
          const hostPort = isRecord(p) ? p.hostPort : undefined;
          if (hostPort !== undefined && hostPort !== 0) {
            addC(['ports', j, 'hostPort'], `hostPort ${String(hostPort)} binds a port on the node`);
          }
        });
      }
    });
  }
  return out;
}

type Add = (rel: FieldPath, message: string) => void;

function checkSeccomp(type: unknown, path: string[], add: Add): void {
  if (type === 'Unconfined') add(path, 'seccompProfile type Unconfined turns off system-call filtering');
}

function checkAppArmor(type: unknown, path: string[], add: Add): void {
  if (type === 'Unconfined') add(path, 'appArmorProfile type Unconfined turns off AppArmor');
}

function checkSeLinux(options: unknown, path: string[], add: Add): void {
  if (!isRecord(options)) return;
  if (options.type !== undefined && !SELINUX_TYPES.includes(String(options.type))) {
    add([...path, 'type'], `seLinuxOptions.type ${String(options.type)} is not a container type`);
  }
  for (const field of ['user', 'role'] as const) {
    if (options[field] !== undefined && options[field] !== '') {
      add([...path, field], `seLinuxOptions.${field} may not be set`);
    }
  }
}
