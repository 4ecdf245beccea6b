# The JDK compiles a class (javac is a JVM program too), then the JVM runs it.
WORKLOAD=java
. /workloads/lib.sh
java -version 2>&1 | grep -q 'openjdk version "17' || fail "java -version"
javac -d /tmp/java /workloads/Work.java
java -cp /tmp/java Work
