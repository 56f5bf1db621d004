// Makes the shared parts of a function's isolate immutable, in the manner of SES `lockdown()`.
//
// A function's context lives as long as its isolate and serves many runs, so anything one run
// could change on a shared object (a built-in prototype, a global, a class we provide) would be
// seen by the next run. Freezing everything reachable from the global object (and the intrinsics
// that are only reachable through syntax) removes that channel; each run's own state lives in
// objects created for that run.

// Properties that ordinary code assigns on its own objects although a frozen prototype has them
// (`this.name = 'MyError'`, `Foo.prototype.toString = ...`). A frozen data property would make
// those assignments fail (the "override mistake"), so they become accessors whose setter
// defines the property on the object assigned to, exactly as if the prototype were unfrozen.
const OVERRIDABLE = [
  'constructor',
  'name',
  'message',
  'toString',
  'toLocaleString',
  'valueOf',
  'toJSON',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'then',
  'catch',
  'finally',
  'call',
  'apply',
  'bind',
];

const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf, freeze, isFrozen } = Object;
const ownKeys = Reflect.ownKeys;

function enableOverride(proto, key) {
  const desc = getOwnPropertyDescriptor(proto, key);
  if (!desc || !('value' in desc) || !desc.configurable) return;
  const value = desc.value;
  // The accessors are shared like the prototype, so they are frozen too (methods: no prototype).
  const accessors = {
    get() {
      return value;
    },
    set(next) {
      if (this === proto) throw new TypeError(`Cannot assign to read only property '${String(key)}'`);
      defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true });
    },
  };
  defineProperty(proto, key, {
    get: freeze(accessors.get),
    set: freeze(accessors.set),
    enumerable: desc.enumerable,
    configurable: false,
  });
}

// Intrinsics that no global property leads to; user code reaches them through syntax.
function hiddenIntrinsics() {
  const AsyncFunction = async function () {};
  const GeneratorFunction = function* () {};
  const AsyncGeneratorFunction = async function* () {};
  return [
    getPrototypeOf(AsyncFunction),
    getPrototypeOf(GeneratorFunction),
    getPrototypeOf(AsyncGeneratorFunction),
    getPrototypeOf(GeneratorFunction()),
    getPrototypeOf(AsyncGeneratorFunction()),
    getPrototypeOf([][Symbol.iterator]()),
    getPrototypeOf(new Map()[Symbol.iterator]()),
    getPrototypeOf(new Set()[Symbol.iterator]()),
    getPrototypeOf(''[Symbol.iterator]()),
    getPrototypeOf(/x/[Symbol.matchAll]('')),
    getPrototypeOf(Uint8Array),
    (function () {
      'use strict';
      return getOwnPropertyDescriptor(arguments, 'callee').get;
    })(),
  ];
}

// Code generation from strings (eval, new Function and the constructors of async and generator
// functions) would give user code a second way to run text that no check has seen; Node's runtime
// used to refuse it too. The replacements keep `instanceof Function` and `.prototype` intact.
function tameCodeGeneration(root) {
  const refuse = () => {
    throw new EvalError('Code generation from strings disallowed for this context');
  };
  const constructors = [
    root.Function,
    getPrototypeOf(async function () {}).constructor,
    getPrototypeOf(function* () {}).constructor,
    getPrototypeOf(async function* () {}).constructor,
  ];
  for (const original of constructors) {
    const tamed = function Function() {
      refuse();
    };
    defineProperty(tamed, 'prototype', { value: original.prototype, writable: false, configurable: false });
    defineProperty(original.prototype, 'constructor', { value: tamed, writable: true, configurable: true });
    if (original === root.Function) defineProperty(root, 'Function', { value: tamed, writable: true, configurable: true });
  }
  defineProperty(root, 'eval', {
    value: function evaluate() {
      refuse();
    },
    writable: true,
    configurable: true,
  });
}

// The runtime's own classes that no global leads to (a stream's reader, an iterator, a hash, a
// timer), although user code reaches their prototypes through the instances it is given. The
// runtime's modules name them here as they define them; lockdown() freezes them with the rest.
const internals = [];

/** Name a class or object of the runtime that user code can reach but no global leads to. */
export function internal(value) {
  internals.push(value);
  return value;
}

/** Freeze everything reachable from `root`, after making common overrides possible. */
export function lockdown(root) {
  tameCodeGeneration(root);
  const roots = [root, ...hiddenIntrinsics(), ...internals];
  const prototypes = new Set();
  const seen = new Set();
  const stack = [...roots];
  // First pass: find every object, so that prototypes can be tamed before anything is frozen.
  while (stack.length) {
    const o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    seen.add(o);
    const proto = getPrototypeOf(o);
    if (proto) {
      prototypes.add(proto);
      stack.push(proto);
    }
    if (typeof o === 'function' && o.prototype && typeof o.prototype === 'object') prototypes.add(o.prototype);
    for (const key of ownKeys(o)) {
      const d = getOwnPropertyDescriptor(o, key);
      if (!d) continue;
      if ('value' in d) stack.push(d.value);
      else stack.push(d.get, d.set);
    }
  }
  for (const proto of prototypes) {
    if (isFrozen(proto)) continue;
    for (const key of OVERRIDABLE) enableOverride(proto, key);
  }
  for (const o of seen) {
    try {
      freeze(o);
    } catch {
      // A typed array with elements cannot be frozen; none is reachable from the roots.
    }
  }
}

/** Freeze an object made after lockdown and everything it reaches that is not frozen yet. */
export function harden(root) {
  const stack = [root];
  const seen = new Set();
  while (stack.length) {
    const o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o) || isFrozen(o)) continue;
    seen.add(o);
    for (const key of ownKeys(o)) {
      const d = getOwnPropertyDescriptor(o, key);
      if (!d) continue;
      if ('value' in d) stack.push(d.value);
      else stack.push(d.get, d.set);
    }
    stack.push(getPrototypeOf(o));
    try {
      freeze(o);
    } catch {
      // typed arrays with elements cannot be frozen
    }
  }
  return root;
}
