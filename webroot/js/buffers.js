// Bounded buffers (wallboard contract section 4): every array or map the page keeps over time is
// one of these, so a wallboard that runs for weeks holds the same amount of data on day 30 as on
// day 1. Ring: a fixed-capacity circular list, oldest dropped first. BucketRing: a Ring of time
// buckets kept sorted by start, updated in place. BoundedMap: a Map that forgets its least
// recently set entry past its capacity.

export class Ring {
  constructor(capacity) {
    if (!(capacity > 0)) throw new Error('Ring: capacity must be > 0');
    this.capacity = capacity | 0;
    this.items = new Array(this.capacity);
    this.head = 0;   // index of the oldest item
    this.length = 0;
  }

  push(x) {
    if (this.length < this.capacity) {
      this.items[(this.head + this.length) % this.capacity] = x;
      this.length++;
    } else {
      this.items[this.head] = x;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** The i-th item, oldest first (negative i counts from the newest: -1 is the newest). */
  get(i) {
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return undefined;
    return this.items[(this.head + i) % this.capacity];
  }

  set(i, x) {
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return;
    this.items[(this.head + i) % this.capacity] = x;
  }

  last() { return this.get(-1); }
  first() { return this.get(0); }

  clear() {
    this.items = new Array(this.capacity);
    this.head = 0;
    this.length = 0;
  }

  toArray() {
    const out = new Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.items[(this.head + i) % this.capacity];
    return out;
  }

  forEach(fn) {
    for (let i = 0; i < this.length; i++) fn(this.items[(this.head + i) % this.capacity], i);
  }

  [Symbol.iterator]() {
    let i = 0;
    return { next: () => (i < this.length ? { value: this.get(i++), done: false } : { value: undefined, done: true }) };
  }
}

/**
 * Buckets {start, ...} sorted by start. upsert() replaces the bucket of the same start, appends a
 * newer one (dropping the oldest when full), and inserts an older one in its place (rare: history
 * arriving after live) unless it is older than everything held in a full ring.
 */
export class BucketRing extends Ring {
  indexOf(start) {
    for (let i = this.length - 1; i >= 0; i--) {
      const s = this.get(i).start;
      if (s === start) return i;
      if (s < start) return -1;
    }
    return -1;
  }

  at(start) {
    const i = this.indexOf(start);
    return i < 0 ? undefined : this.get(i);
  }

  upsert(b) {
    const last = this.last();
    if (!last || b.start > last.start) { this.push(b); return b; }
    if (b.start === last.start) { this.set(-1, b); return b; }
    const i = this.indexOf(b.start);
    if (i >= 0) { this.set(i, b); return b; }
    if (this.length === this.capacity && b.start < this.first().start) return null;
    const all = this.toArray();
    let k = all.findIndex(x => x.start > b.start);
    all.splice(k, 0, b);
    this.clear();
    for (const x of all.slice(-this.capacity)) this.push(x);
    return b;
  }

  /** Drops buckets that start before `t`. */
  dropBefore(t) {
    while (this.length && this.first().start < t) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.length--;
    }
  }
}

export class BoundedMap extends Map {
  constructor(capacity, onEvict) {
    super();
    this.capacity = capacity;
    this.onEvict = onEvict || null;
    this.evicted = 0;
  }

  set(k, v) {
    if (super.has(k)) super.delete(k);
    super.set(k, v);
    while (this.size > this.capacity) {
      const oldest = this.keys().next().value;
      const ov = super.get(oldest);
      super.delete(oldest);
      this.evicted++;
      if (this.onEvict) this.onEvict(oldest, ov);
    }
    return this;
  }
}

/** Limits used across the page (contract section 4). */
export const LIMITS = Object.freeze({
  bucketsPerSeries: 2000,
  defaultTop: 20,
  maxTop: 200,
  alerts: 200,
  subWindowsPerBucket: 3600,
});
