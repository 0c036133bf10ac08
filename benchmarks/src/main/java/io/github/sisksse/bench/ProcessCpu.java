package io.github.sisksse.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time used so far by a process, user and system together, to tell how much of the machine a measurement
 * took.
 */
final class ProcessCpu {

	private ProcessCpu() {
	}

	/**
	 * This JVM's CPU time.
	 * @return nanoseconds
	 */
	static long ofThisJvm() {
		return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
			.getProcessCpuTime();
	}

	/**
	 * Another process's CPU time so far, from one read of /proc/PID/stat (Linux), assuming 100 clock ticks per
	 * second, so to 10 ms.
	 * @param pid the process, or a value {@code <= 0} for none
	 * @return its user and kernel times; both 0 for no process
	 * @throws IOException where /proc cannot tell (not Linux, or the process is gone)
	 */
	static Times of(long pid) throws IOException {
		if (pid <= 0) {
			return new Times(0, 0);
		}
		String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
		String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
		return new Times(Long.parseLong(fields[11]) * 10_000_000L, Long.parseLong(fields[12]) * 10_000_000L);
	}

	/**
	 * A process's CPU time at one moment.
	 * @param user nanoseconds in the process's own code (utime)
	 * @param system nanoseconds in the kernel on its behalf (stime): system calls, such as socket writes
	 */
	record Times(long user, long system) {

		/**
		 * User and kernel time together.
		 * @return nanoseconds
		 */
		long total() {
			return this.user + this.system;
		}

	}

}
