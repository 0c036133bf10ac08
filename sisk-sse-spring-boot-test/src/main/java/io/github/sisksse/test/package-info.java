/**
 * Test kit for applications' Server-Sent Events endpoints: {@link io.github.sisksse.test.SseClient} reads a stream
 * over HTTP with a strict {@code text/event-stream} parser ({@link io.github.sisksse.test.SseParser}),
 * {@link io.github.sisksse.test.MockMvcSse} reads what a controller wrote under MockMvc,
 * {@link io.github.sisksse.test.SseAssertions} asserts on either within a time limit, and
 * {@link io.github.sisksse.test.ManualTaskScheduler} drives pings, idle timeouts and lifetimes without waiting.
 */
@NullMarked
package io.github.sisksse.test;

import org.jspecify.annotations.NullMarked;
