import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';

export const DOVECOT_BINARY = '/usr/sbin/dovecot';
export const dovecotInstalled = [DOVECOT_BINARY, '/usr/lib/dovecot/imap', '/usr/lib/dovecot/lmtp'].every((path) => existsSync(path));
export const DOVECOT_MISSING =
  'dovecot is not installed (apt-get install -y dovecot-imapd dovecot-lmtpd): the retraction tests need a real IMAP server';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True once an IMAP server answers on the port with its `* OK` greeting. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(2000);
    socket.once('data', (chunk) => {
      resolve(chunk.toString().startsWith('* OK'));
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      resolve(false);
      socket.destroy();
    });
  });
}

async function mailOwner(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = [process.getuid?.() ?? 0, process.getgid?.() ?? 0];
  if (uid !== 0) return { uid, gid };
  const entry = (await readFile('/etc/passwd', 'utf8')).split('\n').find((line) => line.startsWith('dovecot:'));
  if (!entry) throw new Error('running as root needs the dovecot system user (the dovecot-core package creates it)');
  const [, , u, g] = entry.split(':');
  return { uid: Number(u), gid: Number(g) };
}

/**
 * A Dovecot of one test file's own: its config, passwd-file, sockets and maildirs under a temp
 * dir, IMAP and LMTP on free ports, a master user to act in anyone's mailbox, and no TLS.
 */
export class Dovecot {
  private constructor(
    private readonly dir: string,
    private readonly process: ChildProcess,
    readonly imapPort: number,
    readonly lmtpPort: number,
    readonly master: { user: string; password: string },
    private readonly passwords: Map<string, string>,
  ) {}

  /** `users` get mailboxes (password = their address reversed); anyone else has none. */
  static async start(users: string[]): Promise<Dovecot> {
    const dir = await mkdtemp(join(tmpdir(), 'cs-dovecot-'));
    // Dovecot's auth process runs as its own user and must read the passwd-files.
    await chmod(dir, 0o755);
    const [imapPort, lmtpPort] = [await freePort(), await freePort()];
    const master = { user: 'countersign-master', password: `master-${Math.random().toString(36).slice(2)}` };
    const passwords = new Map(users.map((u) => [u, [...u].reverse().join('')]));
    // Dovecot refuses uid 0 for mail: as root (CI), mailboxes belong to its own user.
    const { uid, gid } = await mailOwner();
    for (const sub of ['mail', 'home']) {
      await mkdir(join(dir, sub));
      await chown(join(dir, sub), uid, gid);
    }
    await writeFile(join(dir, 'users'), [...passwords].map(([u, p]) => `${u}:{PLAIN}${p}:${uid}:${gid}::${dir}/home/${u}::\n`).join(''));
    await writeFile(join(dir, 'masters'), `${master.user}:{PLAIN}${master.password}\n`);
    await writeFile(
      join(dir, 'dovecot.conf'),
      `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = cs-dovecot-${imapPort}
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
auth_failure_delay = 0
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:${dir}/mail/%u
namespace inbox {
  inbox = yes
  separator = /
  mailbox Trash {
    auto = create
    special_use = \\Trash
  }
}
passdb {
  driver = passwd-file
  args = ${dir}/masters
  master = yes
  result_success = continue
}
passdb {
  driver = passwd-file
  args = ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
service anvil {
  chroot =
  # No auth penalty: a missing mailbox is a failed login, which would slow every later login from this address.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
}
lmtp_save_to_detail_mailbox = no
`,
    );
    const child = spawn(DOVECOT_BINARY, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const dovecot = new Dovecot(dir, child, imapPort, lmtpPort, master, passwords);
    try {
      await dovecot.waitForListener(() => output);
    } catch (error) {
      await dovecot.stop();
      throw error;
    }
    return dovecot;
  }

  private async waitForListener(output: () => string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await greets(this.imapPort))) {
      if (this.process.exitCode !== null) throw new Error(`dovecot exited: ${output()} ${await this.log()}`);
      if (Date.now() > deadline) throw new Error(`dovecot did not listen on ${this.imapPort}: ${output()} ${await this.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  log(): Promise<string> {
    return readFile(join(this.dir, 'dovecot.log'), 'utf8').catch(() => '');
  }

  /** Hands a message to Dovecot's LMTP service for these mailboxes, as an MTA would. */
  async deliver(raw: Buffer, from: string, to: string[]): Promise<void> {
    const lmtp = nodemailer.createTransport({ host: '127.0.0.1', port: this.lmtpPort, lmtp: true, secure: false, ignoreTLS: true });
    try {
      await lmtp.sendMail({ raw, envelope: { from, to } });
    } finally {
      lmtp.close();
    }
  }

  /** The Message-IDs in one mailbox folder, read as its owner logging in. */
  async messageIds(user: string, folder: 'INBOX' | 'Trash'): Promise<string[]> {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: this.imapPort,
      secure: false,
      logger: false,
      auth: { user, pass: this.passwords.get(user)! },
    });
    await client.connect();
    try {
      const lock = await client.getMailboxLock(folder);
      try {
        const exists = (client.mailbox as { exists: number }).exists;
        if (exists === 0) return [];
        const messages = await client.fetchAll('1:*', { envelope: true });
        return messages.map((m) => m.envelope?.messageId ?? '').sort();
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await rm(this.dir, { recursive: true, force: true });
  }
}
