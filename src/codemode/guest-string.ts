import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';

/** The parts of a quickjs-emscripten context (0.32) that `context.newString` uses; not in its public types. */
interface ContextInternals {
  module: {
    lengthBytesUTF8(text: string): number;
    stringToUTF8(text: string, pointer: number, maxBytes: number): void;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
  };
  ffi: {
    QTS_NewString(context: number, pointer: number): number;
    QTS_ResolveException(context: number, value: number): number;
    QTS_FreeValuePointer(context: number, value: number): void;
  };
  ctx: { value: number };
  memory: { heapValueHandle(pointer: number): QuickJSHandle };
}

/**
 * A guest string made from host text, or undefined when it does not fit in the guest's memory.
 * `context.newString` does not check its malloc: when it fails, the text is written over the instance's memory
 * from address 0, and the guest goes on with corrupted state (seen as "memory access out of bounds"). This is the
 * same sequence with both allocations checked: the UTF-8 copy, and QuickJS's own string (under its memory limit).
 *
 * @example
 * const reply = newGuestString(context, json) ?? newGuestString(context, outOfMemoryReply);
 */
export function newGuestString(context: QuickJSContext, text: string): QuickJSHandle | undefined {
  const { module, ffi, ctx, memory } = context as unknown as Partial<ContextInternals>;
  // Another quickjs-emscripten may lay these out differently: then the public, unchecked call is all there is.
  if (typeof module?._malloc !== 'function' || typeof ffi?.QTS_NewString !== 'function' || !ctx || !memory) {
    return context.newString(text);
  }
  const bytes = module.lengthBytesUTF8(text) + 1;
  const pointer = module._malloc(bytes);
  if (pointer === 0) return undefined;
  try {
    module.stringToUTF8(text, pointer, bytes);
    const value = ffi.QTS_NewString(ctx.value, pointer);
    // 0: even the value's 16-byte box could not be allocated.
    if (value === 0) return undefined;
    const error = ffi.QTS_ResolveException(ctx.value, value);
    if (error !== 0) {
      ffi.QTS_FreeValuePointer(ctx.value, error);
      ffi.QTS_FreeValuePointer(ctx.value, value);
      return undefined;
    }
    return memory.heapValueHandle(value);
  } finally {
    module._free(pointer);
  }
}
