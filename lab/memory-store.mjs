// @ts-check
/**
 * A storage adapter for oidc-provider, one per lab IdP. oidc-provider's own memory adapter keeps one
 * process-wide LRU of 1000 entries (shared by every IdP in the process, evicting under load); this one is
 * per instance, unbounded for the life of the IdP, and can list what it holds (for revokeAllFor).
 * @module
 */

/**
 * @typedef {{ payload: Record<string, any>, expiresAt: number | undefined }} Entry
 */

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

export class LabStorage {
  /** @type {Map<string, Entry>} "Model:id" → entry */
  entries = new Map();

  /** @type {Map<string, Set<string>>} grantId → "Model:id" keys */
  grants = new Map();

  /** @type {Map<string, string>} "Model:userCode|uid" → id */
  lookups = new Map();

  /**
   * The adapter class oidc-provider instantiates per model name.
   * @returns {new (name: string) => object}
   */
  adapterClass() {
    const storage = this;
    return class LabAdapter {
      /** @param {string} name */
      constructor(name) {
        this.name = name;
      }

      /** @param {string} id */
      key(id) {
        return `${this.name}:${id}`;
      }

      /**
       * @param {string} id
       * @param {Record<string, any>} payload
       * @param {number} [expiresIn]
       */
      async upsert(id, payload, expiresIn) {
        const key = this.key(id);
        storage.entries.set(key, {
          payload,
          expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined,
        });
        if (GRANTABLE.has(this.name) && payload.grantId) {
          let members = storage.grants.get(payload.grantId);
          if (!members) storage.grants.set(payload.grantId, (members = new Set()));
          members.add(key);
        }
        if (payload.userCode) storage.lookups.set(`${this.name}:userCode:${payload.userCode}`, id);
        if (payload.uid) storage.lookups.set(`${this.name}:uid:${payload.uid}`, id);
      }

      /** @param {string} id */
      async find(id) {
        return storage.read(this.key(id));
      }

      /** @param {string} userCode */
      async findByUserCode(userCode) {
        const id = storage.lookups.get(`${this.name}:userCode:${userCode}`);
        return id ? storage.read(this.key(id)) : undefined;
      }

      /** @param {string} uid */
      async findByUid(uid) {
        const id = storage.lookups.get(`${this.name}:uid:${uid}`);
        return id ? storage.read(this.key(id)) : undefined;
      }

      /** @param {string} id */
      async consume(id) {
        const entry = storage.read(this.key(id));
        if (entry) entry.consumed = Math.floor(Date.now() / 1000);
      }

      /** @param {string} id */
      async destroy(id) {
        storage.entries.delete(this.key(id));
      }

      /** @param {string} grantId */
      async revokeByGrantId(grantId) {
        storage.revokeGrant(grantId);
      }
    };
  }

  /**
   * @param {string} key
   * @returns {Record<string, any> | undefined}
   */
  read(key) {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  /**
   * Delete every artifact of a grant and the grant itself.
   * @param {string} grantId
   */
  revokeGrant(grantId) {
    for (const key of this.grants.get(grantId) ?? []) this.entries.delete(key);
    this.grants.delete(grantId);
    this.entries.delete(`Grant:${grantId}`);
  }

  /**
   * Every live entry of one model.
   * @param {string} model
   * @returns {Array<[string, Record<string, any>]>} [id, payload]
   */
  list(model) {
    const prefix = `${model}:`;
    /** @type {Array<[string, Record<string, any>]>} */
    const out = [];
    for (const key of [...this.entries.keys()]) {
      if (!key.startsWith(prefix)) continue;
      const payload = this.read(key);
      if (payload) out.push([key.slice(prefix.length), payload]);
    }
    return out;
  }
}
