WORKLOAD=node
. /workloads/lib.sh
node /workloads/node.js
