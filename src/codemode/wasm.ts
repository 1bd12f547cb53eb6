/*
 * The few WebAssembly APIs the sandbox uses. The project's `lib` (ES2023, no DOM) has no WebAssembly types,
 * and declaring the global namespace here would leak into every other file, so the global is reached once,
 * through these local types.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** A compiled module; opaque here, handed to quickjs-emscripten and across to workers. */
export type WasmModule = object;

interface WasmGlobal {
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;
